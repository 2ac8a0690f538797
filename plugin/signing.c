/* The signing core: key, chain, pre-sign checks, signature, self-check. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/signer.h"
#include "common/certs.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sigcheck.h"
#include "signing.h"
#include "verify/chain.h"
#include "verify/verify.h"

/* The key from the agent when it holds it (use_agent), else from its
 * backend; then its description, checked alike for both. */
static int open_key(struct nk_signing *sg, const char *key_id,
                    const struct nk_config *cfg, int use_agent,
                    struct nk_err *err)
{
    const struct nk_signer_ops *ops;
    enum nk_keyspec pub_spec;
    double t0 = nk_log_now_ms();
    char idbuf[512];

    memset(sg, 0, sizeof(*sg));
    ops = nk_signer_lookup(key_id, err);
    if (ops == NULL)
        return -1;
    nk_info("key %s: %s backend", nk_log_keyid(key_id, idbuf, sizeof(idbuf)),
            ops->name);
    if (!use_agent || nk_agent_signer_open(ops, key_id, cfg, &sg->signer) != 0)
        if (ops->open(key_id, cfg, &sg->signer, err) != 0)
            return -1;
    ops = sg->signer->ops;
    if (ops->describe(sg->signer, &sg->info, err) != 0)
        return -1;
    if (sg->info.pub == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "the %s backend found no public key for the key",
                          ops->name);
    if (nk_keyspec_of_pkey(sg->info.pub, &pub_spec, err) != 0)
        return -1;
    if (sg->info.spec == NK_KEYSPEC_NONE)
        sg->info.spec = pub_spec;
    if (sg->info.spec != pub_spec)
        return nk_err_set(
            err, NK_ERR_GENERIC, "the key store says %s but the key is %s",
            nk_keyspec_name(sg->info.spec), nk_keyspec_name(pub_spec));
    nk_info("key opened with %s backend: %s (%.1f ms)", ops->name,
            nk_keyspec_name(sg->info.spec), nk_log_now_ms() - t0);
    return 0;
}

int nk_signing_open(struct nk_signing *sg, const char *key_id,
                    const struct nk_config *cfg, struct nk_err *err)
{
    return open_key(sg, key_id, cfg, 1, err);
}

int nk_signing_open_direct(struct nk_signing *sg, const char *key_id,
                           const struct nk_config *cfg, struct nk_err *err)
{
    return open_key(sg, key_id, cfg, 0, err);
}

/* Appends every certificate of a pluginConfig file to pool. */
static int add_file(STACK_OF(X509) * pool, const struct nk_config *cfg,
                    const char *key, struct nk_err *err)
{
    const char *path = nk_config_str(cfg, key);
    STACK_OF(X509) *sk = NULL;

    if (path == NULL)
        return 0;
    if (nk_certs_load_file(path, key, &sk, err) != 0)
        return -1;
    while (sk_X509_num(sk) > 0)
        sk_X509_push(pool, sk_X509_shift(sk));
    sk_X509_free(sk);
    return 0;
}

/* The leaf: first certificate of certificate-chain, else the certificate
 * file, else the one the key store keeps beside the key. */
static int pick_leaf(struct nk_signing *sg, const struct nk_config *cfg,
                     STACK_OF(X509) * pool, X509 **leaf, struct nk_err *err)
{
    *leaf = NULL;
    if (nk_config_str(cfg, "certificate-chain") != NULL) {
        if (add_file(pool, cfg, "certificate-chain", err) != 0)
            return -1;
        *leaf = sk_X509_shift(pool);
        return 0;
    }
    if (nk_config_str(cfg, "certificate") != NULL) {
        STACK_OF(X509) *one = sk_X509_new_null();
        int r = add_file(one, cfg, "certificate", err);

        if (r == 0)
            *leaf = sk_X509_shift(one);
        while (sk_X509_num(one) > 0)
            sk_X509_push(pool, sk_X509_shift(one));
        sk_X509_free(one);
        return r;
    }
    if (sg->info.cert == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "no certificate for the key: store it beside the "
                          "key (same id or label) or set pluginConfig "
                          "\"certificate-chain\" to a PEM file, leaf first");
    X509_up_ref(sg->info.cert);
    *leaf = sg->info.cert;
    return 0;
}

static int check_leaf_key(struct nk_signing *sg, X509 *leaf, struct nk_err *err)
{
    char *name;

    if (EVP_PKEY_eq(X509_get0_pubkey(leaf), sg->info.pub) == 1)
        return 0;
    name = nk_cert_name(leaf);
    nk_err_set(err, NK_ERR_VALIDATION,
               "certificate check failed: signing certificate \"%s\" does "
               "not carry the public key of the %s key",
               name, sg->signer->ops->name);
    free(name);
    return -1;
}

int nk_signing_prepare(struct nk_signing *sg, const struct nk_config *cfg,
                       struct nk_err *err)
{
    STACK_OF(X509) *pool = sk_X509_new_null();
    X509 *leaf = NULL;
    int i, ret = -1;

    sg->cfg = cfg;
    if (pick_leaf(sg, cfg, pool, &leaf, err) != 0 ||
        add_file(pool, cfg, "ca-certs", err) != 0)
        goto out;
    for (i = 0; sg->info.extra != NULL && i < sk_X509_num(sg->info.extra);
         i++) {
        X509_up_ref(sk_X509_value(sg->info.extra, i));
        sk_X509_push(pool, sk_X509_value(sg->info.extra, i));
    }
    if (check_leaf_key(sg, leaf, err) != 0 ||
        nk_chain_build(leaf, pool, &sg->chain, err) != 0)
        goto out;
    if (nk_log_enabled(NK_LOG_INFO)) {
        char *name = nk_cert_name(leaf);

        nk_info("certificate chain: %d certificates, leaf \"%s\"",
                sk_X509_num(sg->chain), name);
        free(name);
    }
    if (nk_chain_check_built(sg->chain, time(NULL), err) != 0)
        goto out;
    /* verifier hook */
    if (nk_verify_presign(sg->chain, cfg, err) != 0)
        goto out;
    nk_debug("pre-sign checks passed");
    ret = 0;
out:
    X509_free(leaf);
    sk_X509_pop_free(pool, X509_free);
    return ret;
}

/* The backend signed with a key rotated since its cached description:
 * describe it again and, when a chain was prepared, prepare it again, so
 * the signature is checked against (and returned with) the key's current
 * certificate. */
static int redescribe(struct nk_signing *sg, enum nk_keyspec spec,
                      struct nk_err *err)
{
    nk_info("the %s key was rotated since it was described: describing "
            "it again",
            sg->signer->ops->name);
    nk_key_info_release(&sg->info);
    sk_X509_pop_free(sg->chain, X509_free);
    sg->chain = NULL;
    if (sg->signer->ops->describe(sg->signer, &sg->info, err) != 0)
        return -1;
    if (sg->info.spec != spec)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "the rotated key is %s, not "
                          "%s",
                          nk_keyspec_name(sg->info.spec),
                          nk_keyspec_name(spec));
    return sg->cfg != NULL ? nk_signing_prepare(sg, sg->cfg, err) : 0;
}

int nk_signing_sign(struct nk_signing *sg, const unsigned char *tbs, size_t n,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    enum nk_hash hash = nk_keyspec_hash(sg->info.spec);
    unsigned char digest[64];
    size_t dlen = nk_hash_digest(hash, tbs, n, digest);
    EVP_PKEY *check_key;
    double t0 = nk_log_now_ms();
    int r;

    *sig = NULL;
    *siglen = 0;
    if (dlen == 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot hash the payload");
    r = sg->signer->ops->sign(sg->signer, sg->info.spec, digest, dlen, sig,
                              siglen, err);
    if (r == NK_SIGN_REDESCRIBE && redescribe(sg, sg->info.spec, err) != 0)
        r = -1;
    if (r < 0) {
        nk_signer_sig_clear(sig, siglen);
        return -1;
    }
    nk_info("signed with %s backend (%.1f ms)", sg->signer->ops->name,
            nk_log_now_ms() - t0);
    /* Check with the certificate notation will use, or the store's public
     * key when no chain was assembled. */
    check_key = sg->chain != NULL
                    ? X509_get0_pubkey(sk_X509_value(sg->chain, 0))
                    : sg->info.pub;
    if (nk_sig_check(check_key, sg->info.spec, digest, dlen, *sig, *siglen,
                     err) != 0) {
        nk_signer_sig_clear(sig, siglen);
        if (sg->signer->ops->stale != NULL) {
            sg->signer->ops->stale(sg->signer);
            nk_err_prefix(err, "the key may have been replaced: its cached "
                               "description was dropped, run again");
        }
        return nk_err_prefix(err,
                             "the %s key store returned a bad "
                             "signature; nothing was sent to notation",
                             sg->signer->ops->name);
    }
    return 0;
}

void nk_signing_release(struct nk_signing *sg)
{
    if (sg->signer != NULL)
        sg->signer->ops->free(sg->signer);
    sg->signer = NULL;
    nk_key_info_release(&sg->info);
    sk_X509_pop_free(sg->chain, X509_free);
    sg->chain = NULL;
}
