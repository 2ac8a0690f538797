/* The PKCS#11 signer ops: open (parse, load, log in, find one key),
 * describe, sign and free. Nothing runs before open(). */
#include <stdlib.h>
#include <strings.h>

#include <openssl/x509.h>

#include "log.h"
#include "mem.h"
#include "p11.h"
#include "pin.h"
#include "pkcs11.h"

static int p11_handles(const char *key_id)
{
    return key_id != NULL && strncasecmp(key_id, "pkcs11:", 7) == 0;
}

void nk_p11_key_release(struct nk_p11 *s)
{
    EVP_PKEY_free(s->pub);
    X509_free(s->cert);
    free(s->label);
    free(s->id);
    s->pub = NULL;
    s->cert = NULL;
    s->cert_tried = 0;
    s->label = NULL;
    s->id = NULL;
    s->id_len = 0;
    s->always_auth = 0;
}

void nk_p11_signer_free(struct nk_p11 *s)
{
    if (s == NULL)
        return;
    nk_p11_pin_drop(s);
    nk_p11_key_release(s);
    if (s->have_session)
        s->fl->C_CloseSession(s->session);
    nk_p11_mod_put(s->mod);
    free(s->module);
    nk_p11_uri_free(s->uri);
    free(s);
}

/* The login path: log in and find the one private key (find.c). The PIN
 * is kept only when every signature needs it again (until that
 * signature's C_SignInit); a pin-value in the key id goes now. */
static int open_private(struct nk_p11 *s, struct nk_err *err)
{
    if (nk_p11_find_key(s, s->cfg, err) != 0)
        return -1;
    if (s->always_auth && !s->slot->token->secureLogin && s->pin == NULL &&
        nk_p11_pin_resolve(s->uri, s->cfg, &s->pin, &s->pin_from, err) != 0)
        return -1;
    nk_strfreezero(s->uri->pin_value);
    s->uri->pin_value = NULL;
    return 0;
}

int nk_p11_signer_open(const char *key_id, const struct nk_config *cfg,
                       struct nk_p11 **out, struct nk_err *err)
{
    struct nk_p11 *s = nk_xcalloc(1, sizeof(*s));
    double t0 = nk_log_now_ms();
    int ret = -1, r;

    *out = NULL;
    s->base.ops = &nk_pkcs11_ops;
    s->cfg = cfg;
    if (nk_p11_uri_parse(key_id, &s->uri, err) != 0 ||
        nk_p11_uri_check_key(s->uri, err) != 0 || nk_p11_load(s, cfg, err) != 0)
        goto out;
    /* Without login when the token shows the key's public half. */
    r = nk_p11_find_public(s, err);
    if (r < 0 || (r > 0 && open_private(s, err) != 0))
        goto out;
    nk_debug("pkcs11: open took %.1f ms%s", nk_log_now_ms() - t0,
             !s->have_key     ? " (no login)"
             : s->always_auth ? " (always-authenticate key)"
                              : "");
    *out = s;
    s = NULL;
    ret = 0;
out:
    nk_p11_signer_free(s);
    return ret;
}

/* Before the first signature (or storing a certificate) of a key open()
 * described without login: logs in and finds the private key, which must
 * be the key described (the token may show a public key whose private
 * half is another, or missing: find.c's error then). */
static int need_key(struct nk_p11 *s, struct nk_err *err)
{
    EVP_PKEY *described = s->pub, *own = NULL;
    int ret = -1;

    if (s->have_key)
        return 0;
    s->pub = NULL;
    nk_p11_key_release(s);
    if (s->have_session)
        s->fl->C_CloseSession(s->session);
    s->have_session = 0;
    s->slot = NULL;
    if (open_private(s, err) != 0)
        goto out;
    /* The key from the private key's own attributes or public key object,
     * when the token has them; the signature check covers the rest. */
    own = nk_p11_read_public_key(s);
    if (nk_p11_fault_check(s, err) != 0)
        goto out;
    if (own != NULL && EVP_PKEY_eq(own, described) != 1) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "the private key \"%s\" on token \"%s\" is not the key "
                   "of the public key or certificate the key id names; give "
                   "the key id an id= that names both",
                   s->label ? s->label : "", s->slot->token->label);
        goto out;
    }
    ret = 0;
out:
    EVP_PKEY_free(own);
    EVP_PKEY_free(s->pub);
    s->pub = described;
    return ret;
}

static struct nk_p11 *p11_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_p11);
}

static int p11_open(const char *key_id, const struct nk_config *cfg,
                    struct nk_signer **out, struct nk_err *err)
{
    struct nk_p11 *s;

    *out = NULL;
    if (nk_p11_signer_open(key_id, cfg, &s, err) != 0)
        return -1;
    *out = &s->base;
    return 0;
}

static int p11_describe(struct nk_signer *base, struct nk_key_info *info,
                        struct nk_err *err)
{
    struct nk_p11 *s = p11_of(base);
    X509 *cert;

    if (nk_p11_public_key(s, err) != 0)
        return -1;
    /* No certificate because the token failed the search is its error. */
    cert = nk_p11_find_cert(s);
    if (nk_p11_fault_check(s, err) != 0) {
        X509_free(cert);
        return -1;
    }
    if (EVP_PKEY_up_ref(s->pub) != 1) {
        X509_free(cert);
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot share the public key");
    }
    info->spec = s->spec;
    info->pub = s->pub;
    info->cert = cert;
    info->extra = NULL;
    info->pin_per_sign = s->always_auth && !s->slot->token->secureLogin;
    return 0;
}

/* The key id without pin-value and pin-source (only a valid URI). */
static char *p11_public_id(const char *key_id, struct nk_err *err)
{
    struct nk_p11_uri *u = NULL;

    if (nk_p11_uri_parse(key_id, &u, err) != 0)
        return NULL;
    nk_p11_uri_free(u);
    return nk_p11_uri_public(key_id);
}

static int p11_sign(struct nk_signer *s, enum nk_keyspec spec,
                    const unsigned char *digest, size_t dlen,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    *sig = NULL;
    *siglen = 0;
    if (need_key(p11_of(s), err) != 0)
        return -1;
    return nk_p11_sign(p11_of(s), spec, digest, dlen, sig, siglen, err);
}

static int p11_login(struct nk_signer *s, struct nk_err *err)
{
    return need_key(p11_of(s), err);
}

static int p11_store_cert(struct nk_signer *s, X509 *cert, struct nk_err *err)
{
    if (need_key(p11_of(s), err) != 0)
        return -1;
    return nk_p11_store_cert(p11_of(s), cert, err);
}

static void p11_free(struct nk_signer *s)
{
    if (s != NULL)
        nk_p11_signer_free(p11_of(s));
}

const struct nk_signer_ops nk_pkcs11_ops = {
    .name = "pkcs11",
    .handles = p11_handles,
    .public_id = p11_public_id,
    .open = p11_open,
    .describe = p11_describe,
    .sign = p11_sign,
    .free = p11_free,
    .login = p11_login,
    .store_cert = p11_store_cert,
};
