/* The shared verifier, usable without JSON: trusted identity, revocation
 * (OCSP with CRL fallback, CRL cache) and expiry of a leaf-first chain.
 * Used by verify-signature, by the pre-sign checks and by offline verify. */
#ifndef NK_VERIFY_H
#define NK_VERIFY_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"

/* Response size caps (bytes). notation-core-go uses 20 KiB and 32 MiB. */
#define NK_OCSP_MAX_RESPONSE (64u * 1024)
#define NK_CRL_MAX_SIZE (32u * 1024 * 1024)
/* Clock skew allowed on thisUpdate/nextUpdate of OCSP responses and CRLs. */
#define NK_REVOCATION_SKEW 300

struct nk_verify_opts {
    double ocsp_timeout; /* seconds per OCSP request (default 2) */
    double crl_timeout;  /* seconds per CRL download (default 5) */
    int crl_cache;       /* 1: read and write the on-disk CRL cache */
    char *cache_dir;     /* CRL cache directory (owned) or NULL */
    time_t now;          /* verification time */
    time_t signing_time; /* authentic signing time, or 0 when none */
};

/* Fills o from pluginConfig keys ocsp-timeout, crl-timeout, crl-cache and
 * the environment (XDG_CACHE_HOME, HOME); now = time(NULL). */
int nk_verify_opts_init(struct nk_verify_opts *o, const struct nk_config *cfg,
                        struct nk_err *err) NK_MUST_CHECK;
void nk_verify_opts_release(struct nk_verify_opts *o);

/* A decision for one check, with a reason a person can act on. */
struct nk_verdict {
    int success;
    char reason[1024];
};

/* ---- trusted identity (identity.c, dn.c) ---- */

/* Matches the leaf against trust policy identities as notation does: "*",
 * or "x509.subject: <RFC 4514 DN>" whose every attribute must equal the
 * same attribute of the leaf subject. Other prefixes are ignored. Malformed
 * identities or subjects give success 0 with the reason. */
void nk_identity_check(X509 *leaf, const char *const *identities, size_t n,
                       struct nk_verdict *v);

/* ---- revocation (revocation.c, ocsp.c, crl.c, crlcache.c) ---- */

enum nk_rev_status {
    NK_REV_GOOD = 0,
    NK_REV_NOT_REVOCABLE, /* root, or no OCSP URL and no CRL DP */
    NK_REV_UNKNOWN,       /* unreachable, unverifiable or "unknown" */
    NK_REV_REVOKED
};

enum nk_rev_method { NK_REV_NONE = 0, NK_REV_OCSP, NK_REV_CRL };

struct nk_rev_cert {
    enum nk_rev_status status;
    enum nk_rev_method method; /* what decided the status */
    char *subject;             /* nk_cert_name of the certificate */
    char *serial;              /* upper-case hex */
    time_t revoked_at;         /* NK_REV_REVOKED only */
    int reason_code;           /* CRL reason code, -1 when none given */
    char detail[512];          /* source URL, or why the status is unknown */
};

struct nk_revocation_result {
    size_t n;                  /* one entry per chain certificate */
    struct nk_rev_cert *certs; /* leaf first; the root is not revocable */
    enum nk_rev_status worst;  /* REVOKED > UNKNOWN > others */
};

/* Checks every certificate of a leaf-first chain except the root: OCSP
 * (AIA) first, CRL (CDP) when OCSP has no answer, neither -> not revocable.
 * Network and validation faults become NK_REV_UNKNOWN entries, not errors;
 * -1 only for an empty chain. */
int nk_revocation_check_chain(STACK_OF(X509) * chain,
                              const struct nk_verify_opts *o,
                              struct nk_revocation_result *out,
                              struct nk_err *err) NK_MUST_CHECK;
/* The result as a verdict: revoked or unknown fails. */
void nk_revocation_verdict(const struct nk_revocation_result *r,
                           struct nk_verdict *v);
void nk_revocation_result_release(struct nk_revocation_result *r);
/* RFC 5280 reason name ("keyCompromise"), "unspecified" for -1. */
const char *nk_crl_reason_name(int code);

/* ---- expiry (expiry.c) ---- */

/* Fails when `at` is at or after the signature expiry (0: none), or outside
 * any certificate's validity window. */
void nk_expiry_check(STACK_OF(X509) * chain, time_t expiry, time_t at,
                     struct nk_verdict *v);

/* RFC 3339 ("2025-01-02T03:04:05.5+08:00"); Go's zero time
 * "0001-01-01T00:00:00Z" gives *zero = 1 and *out = 0. */
int nk_time_parse_rfc3339(const char *s, time_t *out, int *zero,
                          struct nk_err *err) NK_MUST_CHECK;
/* "2025-01-02T03:04:05Z" into buf (at least 21 bytes). */
void nk_time_format(time_t t, char *buf, size_t len);
/* An ASN1_TIME as seconds since the epoch; -1 when it cannot be read. */
int nk_time_from_asn1(const ASN1_TIME *a, time_t *out) NK_MUST_CHECK;

/* ---- before signing (presign.c) ---- */

/* With pluginConfig revocation-check-before-sign=true, refuses a chain with
 * a revoked certificate or an unknown status (VALIDATION_ERROR naming it). */
int nk_verify_presign(STACK_OF(X509) * chain, const struct nk_config *cfg,
                      struct nk_err *err) NK_MUST_CHECK;

#endif
