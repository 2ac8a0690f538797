/* Key specs notation knows, and everything that follows from one: hash,
 * algorithm names on the wire, JWS and COSE identifiers, signature size. */
#ifndef NK_KEYSPEC_H
#define NK_KEYSPEC_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"

enum nk_keyspec {
    NK_KEYSPEC_NONE = 0,
    NK_RSA_2048,
    NK_RSA_3072,
    NK_RSA_4096,
    NK_EC_256,
    NK_EC_384,
    NK_EC_521
};

enum nk_hash { NK_HASH_NONE = 0, NK_SHA256, NK_SHA384, NK_SHA512 };

/* "RSA-2048" ... "EC-521"; parse returns NK_KEYSPEC_NONE when unknown. */
const char *nk_keyspec_name(enum nk_keyspec spec);
enum nk_keyspec nk_keyspec_parse(const char *s);
int nk_keyspec_is_rsa(enum nk_keyspec spec);
/* The hash notation pairs with the key (RSA-3072 -> SHA-384 ...). */
enum nk_hash nk_keyspec_hash(enum nk_keyspec spec);
/* "RSASSA-PSS-SHA-256", "ECDSA-SHA-384" ... */
const char *nk_keyspec_signing_alg(enum nk_keyspec spec);
/* JWS "PS256"/"ES384"...; COSE -37/-35 ... */
const char *nk_keyspec_jws_alg(enum nk_keyspec spec);
int nk_keyspec_cose_alg(enum nk_keyspec spec);
/* Raw signature size: modulus bytes for RSA, 2 * field bytes for EC. */
size_t nk_keyspec_sig_len(enum nk_keyspec spec);
/* EC field width in bytes (32, 48, 66); 0 for RSA. */
size_t nk_keyspec_ec_width(enum nk_keyspec spec);
/* OpenSSL curve group name ("P-256") for EC specs; NULL for RSA. */
const char *nk_keyspec_curve(enum nk_keyspec spec);

/* The key spec of a public or private key; VALIDATION_ERROR naming the
 * key's actual type and size when notation cannot use it. */
int nk_keyspec_of_pkey(EVP_PKEY *pkey, enum nk_keyspec *out,
                       struct nk_err *err) NK_MUST_CHECK;
/* A public key of type ("RSA", "EC") from the parameters pushed to bld
 * (borrowed); the caller frees it. NULL when OpenSSL refuses them. */
EVP_PKEY *nk_keyspec_pkey_from_params(const char *type, OSSL_PARAM_BLD *bld);

/* "SHA-256" ...; parse returns NK_HASH_NONE when unknown. */
const char *nk_hash_name(enum nk_hash h);
enum nk_hash nk_hash_parse(const char *s);
size_t nk_hash_len(enum nk_hash h);
const EVP_MD *nk_hash_md(enum nk_hash h);
/* Hashes p with h into out (at least 64 bytes); returns the length. */
size_t nk_hash_digest(enum nk_hash h, const unsigned char *p, size_t n,
                      unsigned char *out);

#endif
