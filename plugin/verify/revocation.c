/* Revocation of a whole chain as notation-core-go does it: every
 * certificate but the root, OCSP first, CRL when OCSP has no answer,
 * neither -> not revocable; then one verdict with a reason for people. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/mem.h"
#include "verify/chain.h"
#include "verify/revoke.h"

/* RFC 5280 section 5.3.1; 7 is not used. */
static const char *const reason_names[] = {
    "unspecified",     "keyCompromise",
    "cACompromise",    "affiliationChanged",
    "superseded",      "cessationOfOperation",
    "certificateHold", NULL,
    "removeFromCRL",   "privilegeWithdrawn",
    "aACompromise",
};

const char *nk_crl_reason_name(int code)
{
    if (code < 0)
        return "unspecified";
    if ((size_t)code >= sizeof(reason_names) / sizeof(reason_names[0]) ||
        reason_names[code] == NULL)
        return "unknown reason code";
    return reason_names[code];
}

static char *serial_hex(X509 *cert)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    char *s = nk_xstrdup(hex != NULL ? hex : "?");

    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

/* OCSP, then CRL when OCSP said "unknown" or could not answer. */
static void check_one(STACK_OF(X509) * chain, int i,
                      const struct nk_verify_opts *o, struct nk_rev_cert *rc)
{
    X509 *cert = sk_X509_value(chain, i);
    int ocsp = nk_ocsp_supported(cert), crl = nk_crl_supported(cert);
    char first[sizeof(rc->detail)], second[sizeof(rc->detail)];

    rc->reason_code = -1;
    if (i == sk_X509_num(chain) - 1 || (!ocsp && !crl)) {
        rc->status = NK_REV_NOT_REVOCABLE;
        snprintf(rc->detail, sizeof(rc->detail), "%s",
                 i == sk_X509_num(chain) - 1
                     ? "root certificate"
                     : "no OCSP responder or CRL distribution point");
        return;
    }
    if (ocsp) {
        nk_ocsp_check(cert, chain, i + 1, o, rc);
        if (rc->status != NK_REV_UNKNOWN || !crl)
            return;
    }
    memcpy(first, rc->detail, sizeof(first));
    nk_crl_check(cert, sk_X509_value(chain, i + 1), o, rc);
    if (ocsp && rc->status == NK_REV_UNKNOWN) {
        memcpy(second, rc->detail, sizeof(second));
        snprintf(rc->detail, sizeof(rc->detail), "%.200s; then %.290s", first,
                 second);
    }
}

int nk_revocation_check_chain(STACK_OF(X509) * chain,
                              const struct nk_verify_opts *o,
                              struct nk_revocation_result *out,
                              struct nk_err *err)
{
    struct nk_rev_cert *rc;
    int i, n = sk_X509_num(chain);

    out->n = 0;
    out->certs = NULL;
    out->worst = NK_REV_GOOD;
    if (n <= 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "the certificate chain is empty");
    out->certs = nk_xcalloc((size_t)n, sizeof(*out->certs));
    out->n = (size_t)n;
    for (i = 0; i < n; i++) {
        rc = &out->certs[i];
        rc->subject = nk_cert_name(sk_X509_value(chain, i));
        rc->serial = serial_hex(sk_X509_value(chain, i));
        check_one(chain, i, o, rc);
        if (rc->status > out->worst)
            out->worst = rc->status;
    }
    return 0;
}

static void put(struct nk_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct nk_verdict *v, const char *fmt, ...)
{
    size_t used = strlen(v->reason);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v->reason + used, sizeof(v->reason) - used, fmt, ap);
    va_end(ap);
}

static const char *method_name(enum nk_rev_method m)
{
    return m == NK_REV_OCSP ? "OCSP" : m == NK_REV_CRL ? "CRL" : "none";
}

static void describe_revoked(const struct nk_rev_cert *rc, struct nk_verdict *v)
{
    char when[32];

    nk_time_format(rc->revoked_at, when, sizeof(when));
    put(v,
        "certificate \"%.200s\" (serial %.80s) is revoked since %s, "
        "reason %s (%s); do not trust signatures made with it",
        rc->subject ? rc->subject : "?", rc->serial, when,
        nk_crl_reason_name(rc->reason_code), rc->detail);
}

void nk_revocation_verdict(const struct nk_revocation_result *r,
                           struct nk_verdict *v)
{
    size_t i, bare = 0;
    const struct nk_rev_cert *rc;

    v->reason[0] = '\0';
    v->success = r->worst != NK_REV_REVOKED && r->worst != NK_REV_UNKNOWN;
    for (i = 0; i < r->n; i++) {
        rc = &r->certs[i];
        if (rc->status == NK_REV_REVOKED && r->worst == NK_REV_REVOKED) {
            describe_revoked(rc, v);
            return;
        }
        if (rc->status == NK_REV_UNKNOWN && r->worst == NK_REV_UNKNOWN) {
            put(v,
                "revocation status of certificate \"%.200s\" (serial "
                "%.80s) is unknown: %s; check that the responder or CRL "
                "is reachable and valid",
                rc->subject ? rc->subject : "?", rc->serial, rc->detail);
            return;
        }
    }
    put(v, "no certificate in the chain is revoked");
    for (i = 0; i + 1 < r->n; i++) {
        rc = &r->certs[i];
        if (rc->status == NK_REV_GOOD)
            put(v, "; \"%.120s\" good via %s", rc->subject ? rc->subject : "?",
                method_name(rc->method));
        else if (rc->status == NK_REV_NOT_REVOCABLE && bare++ == 0)
            put(v,
                "; \"%.120s\" has no OCSP responder or CRL distribution "
                "point and is treated as not revocable, as notation does",
                rc->subject ? rc->subject : "?");
    }
}

void nk_revocation_result_release(struct nk_revocation_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->certs[i].subject);
        free(r->certs[i].serial);
    }
    free(r->certs);
    r->certs = NULL;
    r->n = 0;
}
