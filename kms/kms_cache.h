/* The on-disk cache of key descriptions (spec, public key, resolved key id
 * and version, and the certificates the store keeps for the key) under
 * $XDG_CACHE_HOME/notation-keystore/, so the generate-signature process need
 * not fetch what describe-key fetched. Never holds a secret. Entries are
 * replaced atomically (rename), so parallel runs only ever see whole files. */
#ifndef NK_KMS_CACHE_H
#define NK_KMS_CACHE_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/keyspec.h"

struct nk_kms_cached {
    enum nk_keyspec spec;
    EVP_PKEY *pub;
    char *id;     /* the service's full key id (ARN, key name), or NULL */
    long version; /* key version (Vault), 0 when none */
    STACK_OF(X509) * chain; /* certificates the store keeps for the key
                             * (Vault KV), leaf first, or NULL */
};

/* ident names the key completely (backend, endpoint, namespace, mount, key
 * and version asked for). Seconds an entry stays fresh: pluginConfig
 * "cache-ttl" (default 3600); "cache" = false turns the cache off. */
int nk_kms_cache_enabled(const struct nk_config *cfg, double *ttl);

/* 0 and *out filled on a fresh hit; -1 on a miss (never an error). */
int nk_kms_cache_load(const char *ident, double ttl, struct nk_kms_cached *out);
/* Best effort: a failure to write is logged, not reported. */
void nk_kms_cache_store(const char *ident, const struct nk_kms_cached *c);
/* Removes the entry (key rotated or found different). */
void nk_kms_cache_drop(const char *ident);

void nk_kms_cached_release(struct nk_kms_cached *c);

/* The entry's file name inside the cache directory: the hex SHA-256 of
 * ident plus ".json" (no key name or endpoint leaks into directory
 * listings). Malloc'd. */
char *nk_kms_cache_name(const char *ident);

#endif
