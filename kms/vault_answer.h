/* What Vault or OpenBao answers to a Transit key read, a Transit sign and
 * a KV v2 read, from the parsed JSON body: pure functions, no I/O. product
 * ("Vault", "OpenBao") and the key name appear in messages. */
#ifndef NK_VAULT_ANSWER_H
#define NK_VAULT_ANSWER_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/keyspec.h"
#include "kms_cache.h"

/* Key versions above this are refused, asked for or answered. */
#define NK_VAULT_MAX_VERSION 1000000

/* GET <mount>/keys/<name>: a type notation can use, signing supported,
 * and the PEM public key of version want (0: latest_version, which must
 * lie from 1 to NK_VAULT_MAX_VERSION) matching the type. Fills
 * key->version, ->pub, ->spec and ->id (the name); the caller releases
 * key. */
int nk_vault_key_answer(const cJSON *resp, const char *product,
                        const char *name, long want, struct nk_kms_cached *key,
                        struct nk_err *err) NK_MUST_CHECK;

/* POST <mount>/sign/...: data.signature "vault:v<N>:<base64>", *ver = N,
 * the signature in notation's form for spec (nk_kms_sig_decode). N must
 * be version, or when the request was not pinned to version (pinned 0)
 * may be newer: the caller then knows the key was rotated. what names the
 * call in messages. *sig is malloc'd. */
int nk_vault_sign_answer(const cJSON *resp, const char *what,
                         enum nk_keyspec spec, long version, int pinned,
                         long *ver, unsigned char **sig, size_t *siglen,
                         struct nk_err *err) NK_MUST_CHECK;

/* GET <kv mount>/data/<path>: the PEM chain in data.data.<field>, leaf
 * first, into *chain (caller frees). what names the secret in messages. */
int nk_vault_kv_answer(const cJSON *resp, const char *field, const char *what,
                       STACK_OF(X509) * *chain,
                       struct nk_err *err) NK_MUST_CHECK;

#endif
