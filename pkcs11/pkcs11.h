/* The PKCS#11 backend: keys in any PKCS#11 module, found by RFC 7512
 * "pkcs11:" key ids; and, for the companion commands, a listing of a
 * module's tokens and keys and the storing of a certificate beside a key.
 * No CK_* type or libp11 handle leaves pkcs11/. */
#ifndef NK_PKCS11_H
#define NK_PKCS11_H

#include <stddef.h>

#include <openssl/x509.h>

#include "config.h"
#include "err.h"
#include "keyspec.h"
#include "signer.h"

extern const struct nk_signer_ops nk_pkcs11_ops;

/* One key of a listing. */
struct nk_p11_listed_key {
    char *label;          /* CKA_LABEL, "" when absent */
    char *id_hex;         /* CKA_ID in lowercase hex, "" when absent */
    int is_private;       /* a private key (token logged in), else public */
    enum nk_keyspec spec; /* NK_KEYSPEC_NONE: not a key notation can use */
    X509 *cert;           /* the certificate signing would use, or NULL */
    char *uri;            /* a ready-to-use pkcs11: key id */
};

struct nk_p11_listed_token {
    char *label;
    char *manufacturer;
    char *model;
    char *serial;
    int logged_in; /* private keys listed, else public keys */
    struct nk_p11_listed_key *keys;
    size_t nkeys;
};

struct nk_p11_listed_slot {
    unsigned long id;
    char *description;                 /* NULL when the module has none */
    struct nk_p11_listed_token *token; /* NULL: no initialized token */
};

struct nk_p11_listing {
    char *module; /* the resolved module path */
    struct nk_p11_listed_slot *slots;
    size_t nslots;
};

/* Every slot and token of a module and the keys on each token. module is
 * a path (with a '/') or a name searched like module-name; NULL resolves
 * as for a key id without module attributes. A PIN configured the usual
 * ways (NOTATION_KEYSTORE_PIN, pluginConfig pin-file) is read up front and
 * used only on the token labelled token, or on the only initialized token
 * when token is NULL, with the signing login rules (refused when locked or
 * on the final try, never retried); there private keys are listed, public
 * keys elsewhere. *out is freed with nk_p11_listing_free. */
int nk_p11_list(const char *module, const char *token,
                const struct nk_config *cfg, struct nk_p11_listing **out,
                struct nk_err *err) NK_MUST_CHECK;
/* NULL is fine. */
void nk_p11_listing_free(struct nk_p11_listing *l);

/* For a process that opens and frees keys over a long time (the agent):
 * from now on a module whose last key is freed stays loaded and
 * initialised; only the key's session closes (the last one closing logs
 * the token out). One library may sit under two module paths (pkcs11-spy
 * or p11-kit-proxy in front of it), and finalizing it under one would
 * finalize it under the other. nk_p11_release_modules finalizes and
 * unloads them all once no key is open any more. */
void nk_p11_hold_modules(void);
void nk_p11_release_modules(void);

/* The PIN configured for key_id's token, read as signing would read it
 * (pin-source, pin-value, NOTATION_KEYSTORE_PIN, pluginConfig pin-file),
 * for `agent add` to hand to the agent; with no source, asked through
 * pinentry or the terminal (nk_pinprompt_ask). *pin is malloc'd (wipe it
 * with nk_strfreezero); -1 with err set when nobody gave one. */
int nk_p11_key_pin(const char *key_id, const struct nk_config *cfg, char **pin,
                   struct nk_err *err) NK_MUST_CHECK;

#endif
