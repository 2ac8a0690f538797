/* A fake signer backend for unit tests: in-memory keys of the six key
 * specs, with faults on request. A test binary that links
 * tests/unit/fake_signer.c gets its nk_signer_lookup in place of the
 * product's registry (plugin/signers.c, left out of that binary by the
 * Makefile's FAKE_UNIT list), so key ids "fake:<anything>" open the fake
 * and every other id is refused as unsupported. Nothing is added to the
 * program.
 *
 * The fake is configured through the global `fake` before a key is opened
 * (fake_reset() first); it signs honestly with the private key unless told
 * to corrupt, so a test must still check what it returns with OpenSSL. */
#ifndef NK_TEST_FAKE_SIGNER_H
#define NK_TEST_FAKE_SIGNER_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/signer.h"

struct fake_conf {
    /* set by the test */
    enum nk_keyspec key;      /* the in-memory key to use (default EC-256) */
    enum nk_keyspec say_spec; /* spec describe reports; NONE: the core
                               * derives it from the public key */
    enum nk_errcode open_err, describe_err, sign_err; /* fail with it */
    int no_pub;             /* describe finds no public key */
    EVP_PKEY *pub;          /* describe reports this public key instead */
    X509 *cert;             /* kept beside the key (the fake holds a ref) */
    STACK_OF(X509) * extra; /* more certificates in the store (owned) */
    int corrupt;            /* flip a bit in every signature */
    int bare;               /* ops without the optional stale and store_cert */
    enum nk_errcode store_err; /* store_cert fails with it */

    /* counted by the fake */
    int opens, describes, signs, frees, stales, stores;
    char last_id[256]; /* the key id of the last open */
};

extern struct fake_conf fake;

/* Frees what the configuration holds and sets every field to its default. */
void fake_reset(void);

/* The private key for spec, made once per process (RSA-4096 takes a
 * while). Borrowed. */
EVP_PKEY *fake_key(enum nk_keyspec spec);

/* The key of fake_leaf's CA, made once; none of fake_key's. Borrowed. */
EVP_PKEY *fake_ca_key(void);

/* Sets fake.cert to a code-signing leaf for the current key issued by a
 * fresh CA, and puts the CA (self-signed root) into *root (a new ref, or
 * pass NULL). Valid from now-1 day to now+1 day. */
void fake_leaf(X509 **root);

/* Writes the certificates to a new PEM file under $TMPDIR; returns its
 * path (malloc'd). The caller unlinks and frees it. */
char *fake_pem_file(X509 *const *certs, int n);

/* 1 when sig (notation's raw form: PSS with salt = hash length, or ECDSA
 * r||s) is a valid signature of msg by cert's key for spec, checked with
 * OpenSSL's EVP_DigestVerify alone; 0 otherwise. */
int fake_openssl_verify(X509 *cert, enum nk_keyspec spec,
                        const unsigned char *msg, size_t n,
                        const unsigned char *sig, size_t siglen);

#endif
