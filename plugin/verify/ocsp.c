/* OCSP (RFC 6960) status of one certificate: POST a request with a nonce to
 * each http responder in the AIA extension, verify the signed answer (the
 * issuer or a delegated OCSPSigning responder it issued) and its freshness. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "common/http.h"
#include "common/log.h"
#include "verify/revoke.h"

/* Outcome of one responder: a status it vouches for, or a fault. */
enum answer { ANSWER_FAULT = -1, ANSWER_OK = 0 };

static int is_http(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0;
}

int nk_ocsp_supported(X509 *cert)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    int i, found = 0;

    for (i = 0; i < sk_OPENSSL_STRING_num(urls); i++)
        found |= is_http(sk_OPENSSL_STRING_value(urls, i));
    X509_email_free(urls);
    return found;
}

/* Responder URLs come from certificates: shown without userinfo or
 * query all the same (nk_http_url_loggable). */
static enum answer fault(struct nk_rev_cert *rc, const char *url,
                         const char *what)
{
    char shown[256];

    snprintf(rc->detail, sizeof(rc->detail),
             "OCSP responder \"%.200s\": %.280s",
             nk_http_url_loggable(url, shown, sizeof(shown)), what);
    return ANSWER_FAULT;
}

/* POSTs the DER request; *resp is the HTTP 200 answer. */
static enum answer post(const char *url, OCSP_REQUEST *req,
                        const struct nk_verify_opts *o,
                        struct nk_http_resp *resp, struct nk_rev_cert *rc)
{
    static const struct nk_http_header hdrs[] = {
        {"Content-Type", "application/ocsp-request"},
        {"Accept", "application/ocsp-response"},
    };
    struct nk_http_req hr = {0};
    struct nk_err err = {0};
    unsigned char *der = NULL;
    char msg[400];
    int len = i2d_OCSP_REQUEST(req, &der);
    enum answer a = ANSWER_FAULT;

    if (len <= 0)
        return fault(rc, url, "cannot encode the request");
    hr.method = "POST";
    hr.url = url;
    hr.headers = hdrs;
    hr.n_headers = 2;
    hr.body = der;
    hr.body_len = (size_t)len;
    hr.timeout = o->ocsp_timeout;
    hr.max_body = NK_OCSP_MAX_RESPONSE;
    hr.allow_http = 1;
    if (nk_http_do(&hr, "OCSP request", resp, &err) != 0) {
        fault(rc, url, err.msg);
    } else if (resp->status != 200) {
        snprintf(msg, sizeof(msg), "HTTP status %ld", resp->status);
        fault(rc, url, msg);
    } else if (!nk_http_type_is(resp, "application/ocsp-response")) {
        /* RFC 6960 A.1: the answer is application/ocsp-response. */
        snprintf(msg, sizeof(msg),
                 "the answer has content type \"%.64s\", "
                 "not application/ocsp-response",
                 resp->content_type);
        fault(rc, url, msg);
    } else {
        a = ANSWER_OK;
    }
    OPENSSL_free(der);
    return a;
}

/* The signer must chain to the root of our chain and be the issuer or a
 * delegated responder (OCSPSigning EKU) issued by it: OpenSSL's
 * OCSP_basic_verify checks both (ocsp_check_issuer). */
static int verify_signer(OCSP_BASICRESP *bs, STACK_OF(X509) * chain,
                         int issuer_idx, time_t now)
{
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int i, n = sk_X509_num(chain), ok = 0;

    if (st == NULL || untrusted == NULL)
        goto out;
    for (i = issuer_idx; i < n; i++)
        if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
            goto out;
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(st), now);
    if (X509_STORE_add_cert(st, sk_X509_value(chain, n - 1)) != 1)
        goto out;
    ok = OCSP_basic_verify(bs, untrusted, st, 0) == 1;
out:
    sk_X509_free(untrusted);
    X509_STORE_free(st);
    return ok;
}

/* thisUpdate <= now and now <= nextUpdate, with NK_REVOCATION_SKEW either
 * way; without nextUpdate the answer must be fresh (thisUpdate recent). */
static const char *stale(ASN1_GENERALIZEDTIME *thisupd,
                         ASN1_GENERALIZEDTIME *nextupd, time_t now)
{
    time_t tu, nu;

    if (nk_time_from_asn1(thisupd, &tu) != 0)
        return "the response has no readable thisUpdate";
    if (tu > now + NK_REVOCATION_SKEW)
        return "the response's thisUpdate is in the future";
    if (nextupd == NULL)
        return now - tu > NK_REVOCATION_SKEW
                   ? "the response has no nextUpdate and is not fresh"
                   : NULL;
    if (nk_time_from_asn1(nextupd, &nu) != 0)
        return "the response has no readable nextUpdate";
    return now > nu + NK_REVOCATION_SKEW ? "the response has expired "
                                           "(nextUpdate is in the past)"
                                         : NULL;
}

/* Reads the single response for id into rc. */
static enum answer read_status(OCSP_BASICRESP *bs, OCSP_CERTID *id,
                               const char *url, const struct nk_verify_opts *o,
                               struct nk_rev_cert *rc)
{
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    ASN1_GENERALIZEDTIME *inv = NULL;
    OCSP_SINGLERESP *single;
    const char *why;
    char shown[400];
    time_t invt = 0;
    int idx = OCSP_resp_find(bs, id, -1), reason = -1, st;

    if (idx < 0)
        return fault(rc, url,
                     "the response has no status for the "
                     "certificate (certID mismatch)");
    single = OCSP_resp_get0(bs, idx);
    st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
    why = stale(thisupd, nextupd, o->now);
    if (why != NULL)
        return fault(rc, url, why);
    nk_http_url_loggable(url, shown, sizeof(shown));
    snprintf(rc->detail, sizeof(rc->detail), "OCSP responder \"%s\"", shown);
    rc->status = st == V_OCSP_CERTSTATUS_GOOD      ? NK_REV_GOOD
                 : st == V_OCSP_CERTSTATUS_REVOKED ? NK_REV_REVOKED
                                                   : NK_REV_UNKNOWN;
    if (rc->status == NK_REV_UNKNOWN)
        snprintf(rc->detail, sizeof(rc->detail),
                 "OCSP responder \"%s\" does not know the "
                 "certificate",
                 shown);
    if (rc->status != NK_REV_REVOKED)
        return ANSWER_OK;
    rc->reason_code = reason;
    if (nk_time_from_asn1(rev, &rc->revoked_at) != 0)
        rc->revoked_at = 0;
    /* notation-core-go: revoked only from the invalidity date on, when an
     * authentic signing time is known (signingAuthority). */
    inv = OCSP_SINGLERESP_get1_ext_d2i(single, NID_invalidity_date, NULL, NULL);
    if (inv != NULL && o->signing_time != 0 &&
        nk_time_from_asn1(inv, &invt) == 0 && o->signing_time < invt) {
        rc->status = NK_REV_GOOD;
        snprintf(rc->detail, sizeof(rc->detail),
                 "OCSP responder \"%.300s\" (revoked, but invalid only after "
                 "the authentic signing time)",
                 shown);
    }
    ASN1_GENERALIZEDTIME_free(inv);
    return ANSWER_OK;
}

/* Unwraps and verifies a response to req; then reads cert's status. */
static enum answer check_response(OCSP_RESPONSE *resp, OCSP_REQUEST *req,
                                  OCSP_CERTID *id, STACK_OF(X509) * chain,
                                  int issuer_idx, const char *url,
                                  const struct nk_verify_opts *o,
                                  struct nk_rev_cert *rc)
{
    OCSP_BASICRESP *bs = NULL;
    enum answer a = ANSWER_FAULT;
    char msg[128];
    int st = OCSP_response_status(resp);

    if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(msg, sizeof(msg), "the responder refused: %s",
                 OCSP_response_status_str(st));
        fault(rc, url, msg);
    } else if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
        fault(rc, url, "the response is not a basic OCSP response");
    } else if (OCSP_check_nonce(req, bs) == 0) {
        fault(rc, url, "the response nonce does not match the request");
    } else if (!verify_signer(bs, chain, issuer_idx, o->now)) {
        fault(rc, url,
              "the response signature cannot be verified: it must "
              "be signed by the issuer or by a responder with the "
              "OCSPSigning EKU issued by it");
    } else {
        a = read_status(bs, id, url, o, rc);
    }
    ERR_clear_error();
    OCSP_BASICRESP_free(bs);
    return a;
}

int nk_ocsp_answer(const unsigned char *der, size_t n, OCSP_REQUEST *req,
                   OCSP_CERTID *id, STACK_OF(X509) * chain, int issuer_idx,
                   const char *url, const struct nk_verify_opts *o,
                   struct nk_rev_cert *rc)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)n);
    enum answer a;

    if (resp == NULL) {
        ERR_clear_error();
        return fault(rc, url, "the response is not DER OCSP");
    }
    a = check_response(resp, req, id, chain, issuer_idx, url, o, rc);
    OCSP_RESPONSE_free(resp);
    return a;
}

static enum answer query(const char *url, X509 *cert, STACK_OF(X509) * chain,
                         int issuer_idx, const struct nk_verify_opts *o,
                         struct nk_rev_cert *rc)
{
    X509 *issuer = sk_X509_value(chain, issuer_idx);
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer); /* SHA-1 */
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    struct nk_http_resp resp = {0};
    OCSP_CERTID *dup = id != NULL ? OCSP_CERTID_dup(id) : NULL;
    enum answer a = ANSWER_FAULT;
    double t0 = nk_log_now_ms();
    char shown[256];

    if (req == NULL || dup == NULL || !OCSP_request_add0_id(req, dup)) {
        OCSP_CERTID_free(dup); /* not taken on failure */
        fault(rc, url, "cannot build the request");
        goto out;
    }
    if (!OCSP_request_add1_nonce(req, NULL, -1)) {
        fault(rc, url, "cannot build the request");
        goto out;
    }
    if (post(url, req, o, &resp, rc) == ANSWER_OK)
        a = nk_ocsp_answer(resp.body.data, resp.body.len, req, id, chain,
                           issuer_idx, url, o, rc) == 0
                ? ANSWER_OK
                : ANSWER_FAULT;
    nk_debug("ocsp %s: %s (%.1f ms)",
             nk_http_url_loggable(url, shown, sizeof(shown)),
             a != ANSWER_OK                 ? rc->detail
             : rc->status == NK_REV_GOOD    ? "good"
             : rc->status == NK_REV_REVOKED ? "revoked"
                                            : "unknown",
             nk_log_now_ms() - t0);
out:
    ERR_clear_error();
    nk_http_resp_release(&resp);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(id);
    return a;
}

void nk_ocsp_check(X509 *cert, STACK_OF(X509) * chain, int issuer_idx,
                   const struct nk_verify_opts *o, struct nk_rev_cert *rc)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    const char *url;
    int i;

    rc->status = NK_REV_UNKNOWN;
    rc->method = NK_REV_OCSP;
    snprintf(rc->detail, sizeof(rc->detail), "no http OCSP responder");
    for (i = 0; i < sk_OPENSSL_STRING_num(urls); i++) {
        url = sk_OPENSSL_STRING_value(urls, i);
        if (!is_http(url))
            continue; /* notation asks http responders only */
        rc->status = NK_REV_UNKNOWN;
        if (query(url, cert, chain, issuer_idx, o, rc) == ANSWER_OK)
            break; /* a verified answer decides, as in notation */
    }
    X509_email_free(urls);
}
