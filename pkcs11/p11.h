/* Internal to pkcs11/: the open key (struct nk_signer) and the steps that
 * fill it, one file each. */
#ifndef NK_P11_H
#define NK_P11_H

#include <stddef.h>

#include <libp11.h>

#include "ck.h"
#include "config.h"
#include "err.h"
#include "keyspec.h"
#include "uri.h"

/* libp11 loads the module and does slot and token enumeration, login and
 * object enumeration. Signing goes through the module's own function list
 * (C_SignInit/C_Sign on a session of ours) because libp11 0.4.12 pads PSS
 * in software and sends CKM_RSA_X_509, which many HSMs forbid; we want the
 * token's CKM_RSA_PKCS_PSS. Login state is per process, so our session on
 * the same slot is logged in once libp11 has logged in. */
struct nk_signer {
    struct nk_p11_uri *uri;
    char *module;             /* resolved module path */
    const char *module_from;  /* where the path came from */
    void *dl;                 /* our dlopen handle on the module */
    CK_FUNCTION_LIST *fl;     /* the module's function list */
    int own_init;             /* fl needed our C_Initialize: finalize */
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    PKCS11_SLOT *slot;        /* the key's slot, in slots */
    PKCS11_KEY *key;          /* the key, owned by libp11 */
    CK_SESSION_HANDLE session;
    int have_session;
    CK_OBJECT_HANDLE handle;  /* the private key in session */
    int always_auth;          /* CKA_ALWAYS_AUTHENTICATE */
    char *pin;                /* kept only for always-authenticate keys */
    const char *pin_from;
    int pin_tried;            /* the PIN sources have been read */
    EVP_PKEY *pub;            /* the key's public half, once read */
    enum nk_keyspec spec;
};

/* token.c: loads the module (s->module) and enumerates slots. */
int nk_p11_load(struct nk_signer *s, const struct nk_config *cfg,
                struct nk_err *err) NK_MUST_CHECK;
/* token.c: nonzero when the slot's token passes the URI's token filter. */
int nk_p11_token_matches(const struct nk_signer *s, PKCS11_SLOT *slot);
/* token.c: logs in to the slot's token when it needs it. Refuses when the
 * PIN is locked or on its final try; never retries a wrong PIN. */
int nk_p11_login(struct nk_signer *s, PKCS11_SLOT *slot,
                 const struct nk_config *cfg, struct nk_err *err) NK_MUST_CHECK;
/* token.c: wipes and drops the PIN. */
void nk_p11_pin_drop(struct nk_signer *s);

/* find.c: the one private key the URI names, across matching tokens
 * (sets s->slot and s->key), then its handle in a session of ours. */
int nk_p11_find_key(struct nk_signer *s, const struct nk_config *cfg,
                    struct nk_err *err) NK_MUST_CHECK;
int nk_p11_find_handle(struct nk_signer *s, struct nk_err *err) NK_MUST_CHECK;
/* find.c: the key's public half and spec (cached in s). */
int nk_p11_public_key(struct nk_signer *s, struct nk_err *err) NK_MUST_CHECK;
/* find.c: a copy of the certificate kept with the key (same CKA_ID, else
 * same label), or NULL. */
X509 *nk_p11_find_cert(struct nk_signer *s);

/* pubkey.c: the public key from the private key's attributes (RSA) or
 * the public key object with its CKA_ID (EC); NULL when neither has it. */
EVP_PKEY *nk_p11_read_public_key(struct nk_signer *s);

/* sign.c */
int nk_p11_sign(struct nk_signer *s, enum nk_keyspec spec,
                const unsigned char *digest, size_t dlen, unsigned char **sig,
                size_t *siglen, struct nk_err *err) NK_MUST_CHECK;
/* sign.c: token ECDSA output (r||s, possibly shorter or zero-padded
 * halves) to fixed-width r||s of 2 * width bytes in out. */
int nk_p11_ec_raw(const unsigned char *in, size_t inlen, size_t width,
                  unsigned char *out, struct nk_err *err) NK_MUST_CHECK;

/* pss.c: EMSA-PSS encoding (RFC 8017 9.1.1) of a digest for a modulus of
 * modbits bits, MGF1 with the same hash, salt = hash length, written as
 * the k = ceil(modbits / 8) byte input of a raw RSA operation. */
int nk_p11_pss_encode(enum nk_hash h, const unsigned char *digest,
                      size_t dlen, int modbits, unsigned char *out,
                      size_t k, struct nk_err *err) NK_MUST_CHECK;

#endif
