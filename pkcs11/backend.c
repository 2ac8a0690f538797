/* The PKCS#11 signer ops: open (parse, load, log in, find one key),
 * describe, sign and free. Nothing runs before open(). */
#include <dlfcn.h>
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
    if (s->own_init)
        s->fl->C_Finalize(NULL);
    /* libp11's order: slots, then the module, then the context. */
    if (s->slots != NULL)
        PKCS11_release_all_slots(s->ctx, s->slots, s->nslots);
    if (s->ctx != NULL) {
        PKCS11_CTX_unload(s->ctx);
        PKCS11_CTX_free(s->ctx);
    }
    if (s->dl != NULL)
        dlclose(s->dl);
    free(s->module);
    nk_p11_uri_free(s->uri);
    free(s);
}

int nk_p11_signer_open(const char *key_id, const struct nk_config *cfg,
                       struct nk_p11 **out, struct nk_err *err)
{
    struct nk_p11 *s = nk_xcalloc(1, sizeof(*s));
    double t0 = nk_log_now_ms();
    int ret = -1;

    *out = NULL;
    s->base.ops = &nk_pkcs11_ops;
    if (nk_p11_uri_parse(key_id, &s->uri, err) != 0 ||
        nk_p11_uri_check_key(s->uri, err) != 0 ||
        nk_p11_load(s, cfg, err) != 0 ||
        nk_p11_find_key(s, cfg, err) != 0)
        goto out;
    /* The PIN is kept only when every signature needs it again (until
     * that signature's C_SignInit); a pin-value in the key id goes now. */
    if (s->always_auth && !s->slot->token->secureLogin &&
        nk_p11_pin_resolve(s->uri, cfg, &s->pin, &s->pin_from, err) != 0)
        goto out;
    nk_strfreezero(s->uri->pin_value);
    s->uri->pin_value = NULL;
    nk_debug("pkcs11: open took %.1f ms%s", nk_log_now_ms() - t0,
             s->always_auth ? " (always-authenticate key)" : "");
    *out = s;
    s = NULL;
    ret = 0;
out:
    nk_p11_signer_free(s);
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
    return 0;
}

static int p11_sign(struct nk_signer *s, enum nk_keyspec spec,
                    const unsigned char *digest, size_t dlen,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    return nk_p11_sign(p11_of(s), spec, digest, dlen, sig, siglen, err);
}

static int p11_store_cert(struct nk_signer *s, X509 *cert,
                          struct nk_err *err)
{
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
    .open = p11_open,
    .describe = p11_describe,
    .sign = p11_sign,
    .free = p11_free,
    .store_cert = p11_store_cert,
};
