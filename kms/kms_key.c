/* The key description, keySpec check and signature form every KMS backend
 * shares (see kms_key.h). */
#include <stdlib.h>

#include "common/b64.h"
#include "common/log.h"
#include "common/sigcheck.h"
#include "kms_key.h"
#include "kms_util.h"

void nk_kms_key_init(struct nk_kms_key *k, const struct nk_config *cfg,
                     char *ident)
{
    k->ident = ident;
    k->cache_on = nk_kms_cache_enabled(cfg, &k->ttl);
    k->from_cache = 0;
}

void nk_kms_key_release(struct nk_kms_key *k)
{
    free(k->ident);
    k->ident = NULL;
    nk_kms_cached_release(&k->d);
}

/* Nonzero when the described key is not the leaf certificate's. */
static int other_than_leaf(const struct nk_kms_key *k,
                           const struct nk_config *cfg, X509 *leaf)
{
    EVP_PKEY *want =
        leaf != NULL ? X509_get_pubkey(leaf) : nk_kms_leaf_pub(cfg);
    int other = want != NULL && EVP_PKEY_eq(want, k->d.pub) != 1;

    EVP_PKEY_free(want);
    return other;
}

int nk_kms_key_load(struct nk_kms_key *k, const struct nk_config *cfg,
                    X509 *leaf, nk_kms_fetch_fn fetch, struct nk_signer *s,
                    struct nk_err *err)
{
    int hit = 0;

    if (k->d.pub == NULL && k->cache_on &&
        nk_kms_cache_load(k->ident, k->ttl, &k->d) == 0) {
        k->from_cache = 1;
        hit = 1;
    }
    /* Only a cached description can be out of date; check it once when it
     * is loaded, and again against each leaf a caller brings. */
    if (k->from_cache && (hit || leaf != NULL) &&
        other_than_leaf(k, cfg, leaf)) {
        nk_info("cached key differs from the leaf certificate's: refetch");
        nk_kms_cache_drop(k->ident);
        nk_kms_cached_release(&k->d);
    }
    if (k->d.pub != NULL)
        return 0;
    k->from_cache = 0;
    if (fetch(s, err) != 0) {
        nk_kms_cached_release(&k->d);
        return -1;
    }
    if (k->cache_on)
        nk_kms_cache_store(k->ident, &k->d);
    return 0;
}

int nk_kms_key_info(const struct nk_kms_key *k, struct nk_key_info *info,
                    struct nk_err *err)
{
    if (EVP_PKEY_up_ref(k->d.pub) != 1)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot reference key");
    info->spec = k->d.spec;
    info->pub = k->d.pub;
    return 0;
}

int nk_kms_key_check_spec(const struct nk_kms_key *k, enum nk_keyspec spec,
                          const char *what, struct nk_err *err)
{
    if (spec == k->d.spec)
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "keySpec %s does not match %s "
                      "(%s)",
                      nk_keyspec_name(spec), what, nk_keyspec_name(k->d.spec));
}

int nk_kms_sig_decode(enum nk_keyspec spec, const char *b64, const char *what,
                      unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    unsigned char *raw = NULL;
    size_t n;
    int r;

    *sig = NULL;
    *siglen = 0;
    if (b64 == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no signature in the "
                          "answer",
                          what);
    if (nk_b64_decode(b64, "signature", &raw, &n, err) != 0)
        return nk_err_prefix(err, "%s", what);
    if (nk_keyspec_is_rsa(spec)) {
        *sig = raw;
        *siglen = n;
        return 0;
    }
    r = nk_ecdsa_der_to_raw(raw, n, nk_keyspec_ec_width(spec), sig, siglen,
                            err);
    free(raw);
    return r;
}

void nk_kms_key_stale(struct nk_kms_key *k)
{
    nk_kms_cache_drop(k->ident);
}

void nk_kms_key_forget(struct nk_kms_key *k)
{
    nk_kms_cache_drop(k->ident);
    nk_kms_cached_release(&k->d);
    k->from_cache = 0;
}
