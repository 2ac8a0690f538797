/* What every KMS backend does the same way around its own REST calls: the
 * key description, cached on disk across the processes of one notation
 * run and checked against the leaf certificate before it is trusted; the
 * keySpec check before signing; the signature brought to notation's form;
 * and the cache entry dropped when a signature fails its check. A backend
 * keeps one struct nk_kms_key and supplies only the fetch of a fresh
 * description. */
#ifndef NK_KMS_KEY_H
#define NK_KMS_KEY_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "common/keyspec.h"
#include "common/signer.h"
#include "kms_cache.h"

struct nk_kms_key {
    char *ident; /* names the key completely (see kms_cache.h) */
    int cache_on;
    double ttl;
    int from_cache;         /* d came from the cache, not the service */
    struct nk_kms_cached d; /* the description, once known */
};

/* Fetches a fresh description of s's key into the nk_kms_key's d (empty
 * on entry). */
typedef int (*nk_kms_fetch_fn)(struct nk_signer *s, struct nk_err *err);

/* Takes ownership of ident; reads pluginConfig "cache" and "cache-ttl". */
void nk_kms_key_init(struct nk_kms_key *k, const struct nk_config *cfg,
                     char *ident);
void nk_kms_key_release(struct nk_kms_key *k);

/* Makes k->d hold the key's description: the one already there, else a
 * fresh cache entry, else fetch(s) (then cached). A description from the
 * cache whose key is not the leaf certificate's (leaf, or else the one
 * cfg names) is dropped and fetched again: the key was rotated and the
 * certificate renewed. */
int nk_kms_key_load(struct nk_kms_key *k, const struct nk_config *cfg,
                    X509 *leaf, nk_kms_fetch_fn fetch, struct nk_signer *s,
                    struct nk_err *err) NK_MUST_CHECK;

/* Fills info->spec and info->pub (a new reference) from k->d. */
int nk_kms_key_info(const struct nk_kms_key *k, struct nk_key_info *info,
                    struct nk_err *err) NK_MUST_CHECK;

/* VALIDATION_ERROR unless spec is the described key's; what names the key
 * ("AWS KMS key \"alias/x\""). */
int nk_kms_key_check_spec(const struct nk_kms_key *k, enum nk_keyspec spec,
                          const char *what, struct nk_err *err) NK_MUST_CHECK;

/* A base64 signature from a service in notation's form: RSA as it is,
 * ECDSA from DER to fixed-width r||s. what names the call for errors. */
int nk_kms_sig_decode(enum nk_keyspec spec, const char *b64, const char *what,
                      unsigned char **sig, size_t *siglen,
                      struct nk_err *err) NK_MUST_CHECK;

/* The signer's stale() hook: drops the cache entry so the next run
 * describes the key afresh. */
void nk_kms_key_stale(struct nk_kms_key *k);
/* Drops the cache entry and the description in memory: the next load
 * fetches (the key was found rotated). */
void nk_kms_key_forget(struct nk_kms_key *k);

#endif
