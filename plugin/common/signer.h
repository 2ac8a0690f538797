/* The signer interface every key store backend implements (PKCS#11, AWS KMS,
 * Vault Transit ...). A backend finds one key, says what it is, and signs a
 * digest computed by the caller. Chain assembly, certificate checks and the
 * check of each signature before it is returned live above this interface,
 * in plugin/signing.c, so they are the same for every backend. */
#ifndef NK_SIGNER_H
#define NK_SIGNER_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "err.h"
#include "keyspec.h"

struct nk_signer_ops;

#define NK_SIGN_REDESCRIBE 1

/* An open key. Each backend's own struct embeds this as a member named
 * "base" and hands out &base; NK_SIGNER_OF gets the backend's struct back
 * inside the backend. The signing core and the commands see only this. */
struct nk_signer {
    const struct nk_signer_ops *ops; /* the backend's operations */
};

#define NK_SIGNER_OF(s, type)                                                  \
    ((type *)(void *)((char *)(s)-offsetof(type, base)))

/* What a backend knows about its key. Owned by the struct; release with
 * nk_key_info_release. */
struct nk_key_info {
    enum nk_keyspec spec;
    EVP_PKEY *pub;          /* the key's public half (required) */
    X509 *cert;             /* certificate kept beside the key, or NULL */
    STACK_OF(X509) * extra; /* more certificates the store holds (e.g. a
                             * chain kept in Vault KV), any order, or NULL */
    int pin_per_sign;       /* the store wants the PIN again for every
                             * signature (PKCS#11 CKA_ALWAYS_AUTHENTICATE
                             * without a PIN pad) */
};

struct nk_signer_ops {
    const char *name; /* "pkcs11", "awskms", "hashivault" ... */

    /* Nonzero when key_id has this backend's syntax ("pkcs11:...") */
    int (*handles)(const char *key_id);

    /* Optional (NULL: the key id holds no secret): key_id without the
     * parts that carry or point to a secret (a PKCS#11 pin-value and
     * pin-source), malloc'd; the name the agent knows the key by, so the
     * id can be sent to it. VALIDATION_ERROR for a malformed id. */
    char *(*public_id)(const char *key_id, struct nk_err *err);

    /* Parses key_id, connects to the store and finds exactly one key (or,
     * PKCS#11, the one public half the key id names; sign() then finds
     * the private key);
     * *out->ops is this table. Errors carry the notation errorCode
     * (VALIDATION_ERROR for a bad id or no/several keys, ACCESS_DENIED for
     * credentials ...). */
    int (*open)(const char *key_id, const struct nk_config *cfg,
                struct nk_signer **out, struct nk_err *err);

    /* Fills info (spec and public key at least). */
    int (*describe)(struct nk_signer *s, struct nk_key_info *info,
                    struct nk_err *err);

    /* Signs a digest of nk_keyspec_hash(spec): RSASSA-PSS with MGF1 of the
     * same hash and salt = hash length, or ECDSA returned as fixed-width
     * r||s. *sig is allocated (free with free()). Returns 0, -1, or
     * NK_SIGN_REDESCRIBE: signed, but with another key than the one
     * described (rotated since a cached description was made); the backend
     * has dropped that description, and the caller describes the key again
     * before checking the signature. */
    int (*sign)(struct nk_signer *s, enum nk_keyspec spec,
                const unsigned char *digest, size_t dlen, unsigned char **sig,
                size_t *siglen, struct nk_err *err);

    /* Logs out, closes sessions and connections, wipes secrets. NULL ok. */
    void (*free)(struct nk_signer *s);

    /* Optional (may be NULL): called when a signature from sign() does not
     * verify with the key's certificate, so a backend that cached the key
     * description drops it (the key was probably replaced). */
    void (*stale)(struct nk_signer *s);

    /* Optional (may be NULL): checks the credentials signing will need
     * now, for a backend whose open() and describe() may not (PKCS#11
     * describes a key without login when the token shows its public half;
     * this logs in). sign() does the same by itself when it was not
     * called. */
    int (*login)(struct nk_signer *s, struct nk_err *err);

    /* Optional (may be NULL): a holder that keeps the key open from one
     * command to the next (the agent) calls it before each describe and
     * sign, so per-command budgets (the KMS network deadline) start
     * afresh. */
    void (*restart)(struct nk_signer *s);

    /* Optional (may be NULL): keeps cert in the store beside the key, so
     * signing finds it without pluginConfig (cert generate-test --store).
     * A store that cannot hold certificates leaves it NULL. */
    int (*store_cert)(struct nk_signer *s, X509 *cert, struct nk_err *err);

    /* Optional (may be NULL): for doctor, after describe (which may have
     * failed): the credentials used and where they came from ("Azure
     * workload identity", "service account a@b.iam.gserviceaccount.com
     * (GOOGLE_APPLICATION_CREDENTIALS)") and, where the backend knows,
     * why the sources before it were skipped, into buf; never a secret.
     * 1 when a source was used, 0 when none was (buf says what was
     * tried), -1 when nothing is known. */
    int (*credential_report)(struct nk_signer *s, char *buf, size_t n);
};

/* key_id as ops->public_id gives it (a copy of key_id when the backend
 * has no public_id); NULL with err set for a malformed id. */
char *nk_signer_public_id(const struct nk_signer_ops *ops, const char *key_id,
                          struct nk_err *err);

/* The backend whose syntax key_id has; VALIDATION_ERROR listing the known
 * key id forms when none matches. */
const struct nk_signer_ops *nk_signer_lookup(const char *key_id,
                                             struct nk_err *err);

void nk_key_info_release(struct nk_key_info *info);

/* What a failed sign leaves: frees *sig and sets *sig to NULL and *siglen
 * to 0. */
void nk_signer_sig_clear(unsigned char **sig, size_t *siglen);

#endif
