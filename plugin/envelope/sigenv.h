/* Strict parsing of a notation signature envelope (JWS flattened JSON or
 * COSE_Sign1) for offline verification: the header values, the bytes that
 * were signed, the signature, the certificate chain and the timestamp. */
#ifndef NK_SIGENV_H
#define NK_SIGENV_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/err.h"

/* Envelopes larger than this are refused (notation caps blobs it reads). */
#define NK_SIGENV_MAX (16u * 1024 * 1024)
#define NK_SIGENV_MAX_CRIT 16
/* Entries a header (or the JWS object) may have: the duplicate check is
 * quadratic, so an envelope with a header of millions of entries would
 * keep verify busy for hours; notation's headers have about ten. */
#define NK_SIGENV_MAX_HEADERS 64

struct nk_sigenv {
    int cose;    /* 0: JWS, 1: COSE */
    char alg[8]; /* "PS256" ... "ES512" (COSE mapped) */
    char *cty;
    char *scheme;        /* notary.x509 | notary.x509.signingAuthority */
    time_t signing_time; /* signingTime or authenticSigningTime */
    time_t expiry;       /* 0: none */
    char *vplugin, *vplugin_min, *agent;
    char *crit[NK_SIGENV_MAX_CRIT];
    size_t n_crit;
    unsigned char *payload;
    size_t payload_len;
    unsigned char *tbs; /* the signing input */
    size_t tbs_len;
    unsigned char *sig; /* raw: PSS bytes or ECDSA r||s */
    size_t sig_len;
    STACK_OF(X509) * chain; /* leaf first, as carried */
    unsigned char *tst;     /* DER TimeStampToken, or NULL */
    size_t tst_len;
};

/* Parses p (JWS when it starts with '{' after white space, else COSE).
 * VALIDATION_ERROR naming the first problem: unknown or duplicate members,
 * wrong types, a critical header that is not understood, missing
 * signingScheme / signingTime / x5c, bad base64 or CBOR, trailing data. */
int nk_sigenv_parse(const unsigned char *p, size_t n, struct nk_sigenv *e,
                    struct nk_err *err) NK_MUST_CHECK;
int nk_sigenv_parse_jws(const unsigned char *p, size_t n, struct nk_sigenv *e,
                        struct nk_err *err) NK_MUST_CHECK;
int nk_sigenv_parse_cose(const unsigned char *p, size_t n, struct nk_sigenv *e,
                         struct nk_err *err) NK_MUST_CHECK;

/* Shared rules once the headers are read: scheme known, signing time
 * present, every crit entry present and understood, cty notation's. */
int nk_sigenv_check_headers(const struct nk_sigenv *e,
                            struct nk_err *err) NK_MUST_CHECK;
/* Adds a DER certificate to e->chain. */
int nk_sigenv_add_cert(struct nk_sigenv *e, const unsigned char *der, size_t n,
                       struct nk_err *err) NK_MUST_CHECK;
/* Nonzero when name is a protected header this parser understands. */
int nk_sigenv_known_header(const char *name);

void nk_sigenv_release(struct nk_sigenv *e);

#endif
