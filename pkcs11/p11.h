/* Internal to pkcs11/: the open key (struct nk_p11, which embeds the
 * struct nk_signer the signing core sees) and the steps that fill it, one
 * file each. */
#ifndef NK_P11_H
#define NK_P11_H

#include <stddef.h>

#include <libp11.h>

#include "ck.h"
#include "config.h"
#include "err.h"
#include "keyspec.h"
#include "signer.h"
#include "uri.h"

/* libp11 loads the module and does slot and token enumeration.
 * Everything else goes through the module's own function list on a
 * session of ours: login (libp11's keeps a copy of the PIN until the slots
 * are released), key and certificate lookup with C_FindObjects templates
 * (libp11 0.4.12 can only enumerate every object on a token, reading all
 * their attributes and parsing every certificate), and signing with
 * C_SignInit/C_Sign, because libp11 0.4.12 pads PSS in software and sends
 * CKM_RSA_X_509, which many HSMs forbid; we want the token's
 * CKM_RSA_PKCS_PSS. Login state is per application: once one session of
 * ours has logged in, every session on that token is. */
struct nk_p11 {
    struct nk_signer base; /* ops = &nk_pkcs11_ops */
    struct nk_p11_uri *uri;
    const struct nk_config *cfg; /* borrowed from open()'s caller, whose
                                    config outlives the signer: the lazy
                                    login reads the PIN sources from it */
    char *module;                /* resolved module path */
    const char *module_from;     /* where the path came from */
    struct nk_p11_mod *mod;      /* the loaded module (shared, loaded.c) */
    CK_FUNCTION_LIST *fl;        /* the module's function list */
    PKCS11_CTX *ctx;             /* these three are the module's */
    PKCS11_SLOT *slots;
    unsigned int nslots;
    PKCS11_SLOT *slot;         /* the key's slot, in slots */
    CK_SESSION_HANDLE session; /* ours, on slot */
    int have_session;
    int have_key;            /* the private key is found (handle);
                                else the key was described from what the
                                token shows without login (session is
                                not logged in, label and id are those of
                                the public object) */
    CK_OBJECT_HANDLE handle; /* the private key in session */
    CK_KEY_TYPE key_type;    /* CKK_RSA or CKK_EC */
    char *label;             /* the key's CKA_LABEL, or NULL */
    unsigned char *id;       /* the key's CKA_ID (id_len bytes), or NULL */
    size_t id_len;
    int always_auth; /* CKA_ALWAYS_AUTHENTICATE */
    char *pin;       /* kept only for always-authenticate keys,
                        until their C_SignInit */
    const char *pin_from;
    EVP_PKEY *pub; /* the key's public half, once read */
    X509 *cert;    /* the certificate beside the key, once read */
    int cert_tried;
    enum nk_keyspec spec;
    CK_RV fault_rv;  /* the first token failure a lookup met, or
                        CKR_OK: lookups read on without the answer,
                        nk_p11_fault_check reports it */
    char fault[160]; /* which call failed, for the message */
};

/* backend.c: what open() does: parse and check the key id, load the
 * module, and describe the key from what the token shows without login
 * (nk_p11_find_public), else log in and find the one private key. Signing
 * (and storing a certificate) logs in and finds the private key first when
 * open did not. cfg is borrowed and must outlive *out. */
int nk_p11_signer_open(const char *key_id, const struct nk_config *cfg,
                       struct nk_p11 **out, struct nk_err *err) NK_MUST_CHECK;
/* backend.c: wipes the PIN, closes, unloads, frees; NULL ok. */
void nk_p11_signer_free(struct nk_p11 *s);
/* backend.c: forgets the current key (label, id, public key, certificate)
 * so that s can be pointed at another object. */
void nk_p11_key_release(struct nk_p11 *s);

/* loaded.c: the module at path, loaded (libp11 context, C_Initialize,
 * slots) on first use and shared by every key of the process opened from
 * it; each get is matched by one put, the last of which unloads it. */
struct nk_p11_mod;
int nk_p11_mod_get(const char *path, const char *from, struct nk_p11_mod **out,
                   struct nk_err *err) NK_MUST_CHECK;
void nk_p11_mod_put(struct nk_p11_mod *m);
/* loaded.c: the module's function list, libp11 context and slots. */
void nk_p11_mod_use(const struct nk_p11_mod *m, CK_FUNCTION_LIST **fl,
                    PKCS11_CTX **ctx, PKCS11_SLOT **slots,
                    unsigned int *nslots);

/* token.c: loads the module (s->module when set, else the one
 * nk_p11_module_resolve picks), or shares it when this process has it
 * loaded already. */
int nk_p11_load(struct nk_p11 *s, const struct nk_config *cfg,
                struct nk_err *err) NK_MUST_CHECK;
/* token.c: nonzero when the slot's token passes the URI's token filter. */
int nk_p11_token_matches(const struct nk_p11 *s, PKCS11_SLOT *slot);
/* token.c: logs in to the slot's token through session (of ours, on
 * slot) when it needs it, reading the PIN from its sources (or asking the
 * person at the terminal) and wiping it right after C_Login, unless keep
 * is not NULL: then *keep gets it (NULL when no PIN was used) for a key
 * that needs it again at each signature. Refuses when the PIN is locked or
 * on its final try; never retries a wrong PIN. */
int nk_p11_login(struct nk_p11 *s, PKCS11_SLOT *slot, CK_SESSION_HANDLE session,
                 const struct nk_config *cfg, char **keep,
                 struct nk_err *err) NK_MUST_CHECK;
/* token.c: wipes and drops the PIN. */
void nk_p11_pin_drop(struct nk_p11 *s);

/* find.c: the one RSA or EC private key the URI names, across matching
 * tokens (sets s->slot, s->session, s->handle, s->key_type, s->label,
 * s->id and s->always_auth). VALIDATION_ERROR listing what is there when
 * none or several match. */
int nk_p11_find_key(struct nk_p11 *s, const struct nk_config *cfg,
                    struct nk_err *err) NK_MUST_CHECK;
/* public.c: describes the key without logging in when the matching
 * tokens show exactly one RSA or EC public key object the URI names, else
 * exactly one such certificate (and none of those public keys): sets
 * s->slot, s->session (not logged in), s->label, s->id, s->pub, and
 * s->cert for a certificate. 1 when that does not settle it (nothing
 * visible, several, a public key that cannot be read): the caller logs in
 * and finds the private key (nk_p11_find_key), which gives the answer.
 * -1 with err set when a token fails a call. */
int nk_p11_find_public(struct nk_p11 *s, struct nk_err *err) NK_MUST_CHECK;
/* find.c: nonzero when h is an RSA or EC key, the kinds notation signs
 * with; *kt is its CKA_KEY_TYPE. */
int nk_p11_usable_key(struct nk_p11 *s, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE h, CK_KEY_TYPE *kt);
/* find.c: reads s->label, s->id and s->always_auth of s->handle in
 * s->session. */
void nk_p11_read_key(struct nk_p11 *s);
/* cert.c: the key's public half and spec (cached in s). */
int nk_p11_public_key(struct nk_p11 *s, struct nk_err *err) NK_MUST_CHECK;
/* cert.c: certificate object h in s->session, parsed; NULL when it has
 * no value that parses (a token failure goes to nk_p11_fault). */
X509 *nk_p11_cert_value(struct nk_p11 *s, CK_OBJECT_HANDLE h);
/* cert.c: the X.509 certificate kept with the key (same CKA_ID, else same
 * label; the first that parses), read once; a new reference, or NULL. */
X509 *nk_p11_find_cert(struct nk_p11 *s);

/* object.c: records the first token failure of a lookup that goes on
 * without the answer (an attribute read, an object search): rv is the
 * token's, or CKR_GENERAL_ERROR for an answer that makes no sense. */
void nk_p11_fault(struct nk_p11 *s, CK_RV rv, const char *fmt, ...)
    NK_PRINTF(3, 4);
/* object.c: -1 with err set (the errorCode of the recorded CK_RV) when a
 * lookup met a token failure, else 0. */
int nk_p11_fault_check(const struct nk_p11 *s,
                       struct nk_err *err) NK_MUST_CHECK;
/* object.c: one attribute of obj into a new buffer of *len bytes plus a
 * terminating NUL (so "" for an empty value); NULL when the object does
 * not have it (CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_SENSITIVE), or
 * after a token failure or a length above max (nk_p11_fault). */
unsigned char *nk_p11_attr(struct nk_p11 *s, CK_SESSION_HANDLE session,
                           CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                           size_t max, size_t *len);
/* object.c: a fixed-size attribute (CK_ULONG, CK_BBOOL) of obj into val;
 * 0 when read, -1 when absent or after a token failure (nk_p11_fault). */
int nk_p11_attr_fixed(struct nk_p11 *s, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, void *val,
                      size_t size);
/* object.c: every object matching tmpl in session, in the token's order,
 * into a new array *h of *n handles (NULL when none); the token's CK_RV
 * when a call of the search, C_FindObjectsFinal included, fails. */
CK_RV nk_p11_find(const struct nk_p11 *s, CK_SESSION_HANDLE session,
                  CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl, CK_OBJECT_HANDLE **h,
                  size_t *n);
/* object.c: a new session on slot, read-write when rw is set. */
int nk_p11_open_session(const struct nk_p11 *s, PKCS11_SLOT *slot, int rw,
                        CK_SESSION_HANDLE *session,
                        struct nk_err *err) NK_MUST_CHECK;

/* pubkey.c: the public key from the private key's attributes (RSA) or
 * the public key object with its CKA_ID (EC); NULL when neither has it. */
EVP_PKEY *nk_p11_read_public_key(struct nk_p11 *s);
/* pubkey.c: the key in public key object h (of type kt) in s->session;
 * NULL when it lacks the attributes. */
EVP_PKEY *nk_p11_public_object_key(struct nk_p11 *s, CK_OBJECT_HANDLE h,
                                   CK_KEY_TYPE kt);

/* sign.c */
int nk_p11_sign(struct nk_p11 *s, enum nk_keyspec spec,
                const unsigned char *digest, size_t dlen, unsigned char **sig,
                size_t *siglen, struct nk_err *err) NK_MUST_CHECK;
/* sign.c: how many leading zero bytes a token may drop from an RSA
 * signature or from each ECDSA half. A correct value starts with more zero
 * bytes once in 2^72 signatures, so anything shorter is a token fault. */
#define NK_P11_MAX_STRIPPED 8
/* sign.c: token ECDSA output (r||s, possibly shorter or zero-padded
 * halves) to fixed-width r||s of 2 * width bytes in out. An odd length or
 * halves more than NK_P11_MAX_STRIPPED bytes short are a token fault
 * (ERROR). */
int nk_p11_ec_raw(const unsigned char *in, size_t inlen, size_t width,
                  unsigned char *out, struct nk_err *err) NK_MUST_CHECK;

/* pss.c: EMSA-PSS encoding (RFC 8017 9.1.1) of a digest for a modulus of
 * modbits bits, MGF1 with the same hash, salt = hash length, written as
 * the k = ceil(modbits / 8) byte input of a raw RSA operation. */
int nk_p11_pss_encode(enum nk_hash h, const unsigned char *digest, size_t dlen,
                      int modbits, unsigned char *out, size_t k,
                      struct nk_err *err) NK_MUST_CHECK;

/* store.c: writes cert as a CKO_CERTIFICATE object on the key's token,
 * with the key's CKA_ID and CKA_LABEL, first removing certificates with
 * that CKA_ID (the signer's store_cert). */
int nk_p11_store_cert(struct nk_p11 *s, X509 *cert,
                      struct nk_err *err) NK_MUST_CHECK;

#endif
